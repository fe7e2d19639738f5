package atlassian

import (
	"encoding/json"
	"testing"
)

func TestUserGroupsDecodeLeniently(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`{"accountId":"a","groups":["jira-users","admins"]}`, []string{"jira-users", "admins"}},
		{`{"accountId":"a","groups":[{"id":"g1","name":"contractors"},{"id":"g2"}]}`,
			[]string{"contractors", ""}},
		{`{"accountId":"a","groups":"not a list"}`, nil},
		{`{"accountId":"a","groups":[1,{"x":1},"ok"]}`, []string{"ok"}},
	}
	for _, tt := range tests {
		var u User
		if err := json.Unmarshal([]byte(tt.in), &u); err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if len(u.Groups) != len(tt.want) {
			t.Fatalf("%s: groups %+v, want names %q", tt.in, u.Groups, tt.want)
		}
		for i, g := range u.Groups {
			if g.Name != tt.want[i] {
				t.Errorf("%s: group %d = %+v, want %q", tt.in, i, g, tt.want[i])
			}
		}
	}
}
