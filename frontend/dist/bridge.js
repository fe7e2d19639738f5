// Desktop build: Wails injects window.go and window.runtime before this file runs, so it is
// intentionally empty. In browser mode (`warden serve`) the server answers /bridge.js with a
// generated shim that defines the same objects as fetch calls.
