package geo

import (
	"math"
	"strconv"
	"strings"
)

// earthRadiusKM is the mean Earth radius (IUGG).
const earthRadiusKM = 6371.0088

// DistanceKM is the great-circle (haversine) distance between two locations in kilometres,
// centre to centre: subtracting the error radii is the caller's decision. It returns -1 when
// either location has no coordinates, so a "farther than" test fails safe.
func DistanceKM(a, b Location) float64 {
	if !a.HasCoords() || !b.HasCoords() {
		return -1
	}
	return haversineKM(a.Lat, a.Lon, b.Lat, b.Lon)
}

func haversineKM(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLon := (lon2 - lon1) * rad
	s := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusKM * math.Asin(math.Min(1, math.Sqrt(s)))
}

// ParseGeo reads the "lat,lon" text of an Atlassian event's location.geo field ("59.33,18.07"),
// so a caller can prefer Atlassian's own coordinates when an event has them.
func ParseGeo(s string) (lat, lon float64, ok bool) {
	a, b, found := strings.Cut(strings.TrimSpace(s), ",")
	if !found {
		return 0, 0, false
	}
	lat, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	lon, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if err1 != nil || err2 != nil || math.Abs(lat) > 90 || math.Abs(lon) > 180 ||
		math.IsNaN(lat) || math.IsNaN(lon) {
		return 0, 0, false
	}
	return lat, lon, true
}
