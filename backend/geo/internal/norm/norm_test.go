package norm

import "testing"

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Zürich", "zurich"},
		{"  ZURICH ", "zurich"},
		{"São Paulo", "sao paulo"},
		{"Reykjavík", "reykjavik"},
		{"Côte d’Ivoire", "cote divoire"},
		{"Côte d'Ivoire", "cote divoire"},
		{"Frankfurt (Oder)", "frankfurt oder"},
		{"Straße", "strasse"},
		{"Łódź", "lodz"},
		{"Washington, D.C.", "washington d c"},
		{"東京", "東京"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRegion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Stockholm County", "stockholm"},
		{"State of Berlin", "berlin"},
		{"Community of Madrid", "madrid"},
		{"Capital Region", "capital region"},
		{"Île-de-France", "ile de france"},
	}
	for _, tt := range tests {
		if got := Region(tt.in); got != tt.want {
			t.Errorf("Region(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
