package app

import "errors"

// API is the facade bound to the window and served in browser mode. Every exported method is
// callable from the frontend as window.go.app.API.<Method>(...). It is the only place where
// backend errors become user-facing text.
type API struct {
	core *Core
}

var errNotReady = errors.New("warden is still starting")

// Status returns the header state: version, demo flag and connectors.
func (a *API) Status() (StatusView, error) { return StatusView{}, errNotReady }

// TestConnection checks an organization ID and API key without saving anything.
func (a *API) TestConnection(req ConnectRequest) (TestResult, error) {
	return TestResult{}, errNotReady
}

// SaveConnector tests the connection, stores the key in the keychain and starts the first sync.
func (a *API) SaveConnector(req ConnectRequest) (ConnectorView, error) {
	return ConnectorView{}, errNotReady
}

// DeleteConnector removes a connector, its key from the keychain, and its stored data.
func (a *API) DeleteConnector(id string) error { return errNotReady }

// SyncNow starts a sync of one connector, or of all when id is empty.
func (a *API) SyncNow(id string) error { return errNotReady }

// QueryEvents returns one page of the activity log, newest first.
func (a *API) QueryEvents(q EventQuery) (EventPageView, error) {
	return EventPageView{}, errNotReady
}

// GetEvent returns every field of one event.
func (a *API) GetEvent(org, id string) (EventDetail, error) { return EventDetail{}, errNotReady }

// FilterOptions returns the values the activity log's filters offer for an organization.
func (a *API) FilterOptions(org string) (FilterOptions, error) {
	return FilterOptions{}, errNotReady
}
