// Package detect finds threats in an organization's audit log and keeps the alerts an admin
// works through. It runs the seven built-in policies of Defender for Cloud Apps' Atlassian
// connector (see policies.md) and the admin's custom activity policies over normalized
// events, and it learns from the admin's feedback.
//
// # Event time
//
// Detection never reads the wall clock. Events are processed in event-time order once the
// latest event time has moved Options.Lateness past them, so a page that arrives out of order
// within that bound changes nothing, and replaying the stored history (Replay) gives the
// alerts a live run gave, with the same ids. An event older than what was already processed
// takes a late path: windows insert it at its time, and impossible travel compares it with
// both its neighbours in the store's time-ordered user index.
//
// # State
//
// Per-user baselines (countries, recent places, failure and admin windows, action types),
// per-IP failure records and org-wide state stay in memory and are written to the store
// (store.PutDetect) in one transaction at the end of every Process call, with the alerts the
// batch raised or changed. Loading an org reads them back, plus the stored events that were
// received but not yet processed when the process stopped.
//
// # Alerts
//
// A policy proposes a detection with a dedup key and a subject. A key seen before is
// dropped; a detection close in time to an open alert of the same policy and subject is
// grouped into it; anything else is a new alert. Alerts are listed newest first by event
// time and closed as true positive, benign or false positive with a reason and a comment.
package detect
