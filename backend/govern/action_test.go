package govern

import (
	"slices"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		in, want []Action
	}{
		{[]Action{Notify, Suspend}, []Action{Suspend}},
		{[]Action{Suspend, Deactivate, Notify}, []Action{Deactivate}},
		{[]Action{Reauth, RevokeTokens}, []Action{Reauth}},
		{[]Action{Reauth, Suspend}, []Action{RevokeTokens, Suspend}},
		{[]Action{Restore, Suspend}, []Action{Suspend}},
		{[]Action{Reactivate, Deactivate, Restore}, []Action{Deactivate}},
		{[]Action{Notify, Notify, "bogus"}, []Action{Notify}},
		{[]Action{Notify, RevokeTokens}, []Action{RevokeTokens, Notify}},
		{nil, nil},
	}
	for _, tt := range tests {
		if got := Resolve(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("Resolve(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestDescribeAndParse(t *testing.T) {
	for _, a := range Actions() {
		d := Describe(a)
		if d.Title == "" || d.Does == "" || d.DoesNot == "" || d.Undo == "" || d.Reach == "" {
			t.Errorf("%s: incomplete description %+v", a, d)
		}
		if got, err := ParseAction(" " + strings.ToUpper(string(a))); err != nil || got != a {
			t.Errorf("ParseAction(%s) = %v, %v", a, got, err)
		}
	}
	if !strings.Contains(Describe(Reauth).DoesNot, "may survive") {
		t.Error("reauth must say that live sessions may survive")
	}
	if Describe(Suspend).UndoAction != Restore || Describe(Deactivate).UndoAction != Reactivate {
		t.Error("undo actions")
	}
	if _, err := ParseAction("sign-out"); err == nil {
		t.Error("unknown action parsed")
	}
}
