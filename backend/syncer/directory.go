package syncer

import (
	"time"

	"warden/backend/atlassian"
	"warden/backend/audit"
)

func convertActions(in []atlassian.EventAction) []audit.ActionInfo {
	out := make([]audit.ActionInfo, 0, len(in))
	for _, a := range in {
		groups := a.Attributes.GroupDisplayNames
		if len(groups) == 0 && a.Attributes.GroupDisplayName != "" {
			groups = []string{a.Attributes.GroupDisplayName}
		}
		out = append(out, audit.ActionInfo{
			Key:         a.ID,
			DisplayName: a.Attributes.DisplayName,
			Groups:      groups,
		})
	}
	return out
}

func convertUsers(in []atlassian.User) []audit.User {
	out := make([]audit.User, 0, len(in))
	for _, u := range in {
		au := audit.User{
			AccountID:   u.AccountID,
			Name:        u.Name,
			Email:       u.Email,
			AccountType: u.AccountType,
			Status:      u.Status,
			Admin:       u.IsOrgAdmin(),
			Roles:       u.PlatformRoles,
			Managed:     u.ClaimStatus == "managed",
			Source:      u.ManagementSource,
			MFA:         u.MFAEnabled,
			AddedToOrg:  u.AddedToOrg.Time,
			Department:  u.Department,
			JobTitle:    u.JobTitle,
			Location:    u.Location,
		}
		if au.Status == "" {
			au.Status = u.AccountStatus
		}
		var last time.Time
		for _, p := range u.ProductAccess {
			au.Products = append(au.Products, p.Key)
			if p.LastActiveTimestamp.After(last) {
				last = p.LastActiveTimestamp.Time
			}
		}
		au.LastActive = last
		for _, g := range u.Groups {
			if name := firstNonEmptyString(g.Name, g.ID); name != "" {
				au.Groups = append(au.Groups, name)
			}
		}
		out = append(out, au)
	}
	return out
}

func convertDomains(in []atlassian.Domain) []audit.Domain {
	out := make([]audit.Domain, 0, len(in))
	for _, d := range in {
		out = append(out, audit.Domain{
			ID:        d.ID,
			Name:      d.Attributes.Name,
			ClaimType: d.Attributes.Claim.Type,
			Status:    d.Attributes.Claim.Status,
			Verified:  d.Verified(),
		})
	}
	return out
}

func firstNonEmptyString(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
