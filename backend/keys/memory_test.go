package keys

import (
	"errors"
	"testing"
)

func TestMemoryRoundTrip(t *testing.T) {
	k := Memory()

	if _, err := k.Get("org-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before Set: err = %v, want ErrNotFound", err)
	}
	if err := k.Set("org-1", "first"); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if err := k.Set("org-1", "second"); err != nil {
		t.Fatalf("Set again: %v", err)
	}

	got, err := k.Get("org-1")
	if err != nil || got != "second" {
		t.Fatalf("Get = %q, %v; want the replaced secret", got, err)
	}

	if err := k.Delete("org-1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := k.Delete("org-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: err = %v, want ErrNotFound", err)
	}
	if _, err := k.Get("org-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
	}
}

func TestMemoryRejectsEmptyAccount(t *testing.T) {
	if err := Memory().Set("", "x"); err == nil {
		t.Fatal("Set with an empty account succeeded")
	}
}

func TestMemoryConcurrentUse(t *testing.T) {
	k := Memory()
	done := make(chan struct{})
	for i := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			account := string(rune('a' + i))
			_ = k.Set(account, "v")
			_, _ = k.Get(account)
			_ = k.Delete(account)
		}()
	}
	for range 8 {
		<-done
	}
}
