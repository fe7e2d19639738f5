package app

// Core is the composition root: it owns the store, the clients, the sync scheduler and the
// keychain, and hands them to the facade, the CLI and the window.
type Core struct{}
