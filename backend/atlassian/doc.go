// Package atlassian is Warden's client for the Atlassian Cloud organization admin APIs: the
// audit log (events and events-stream), the action catalogue, directory users, domains and
// policies.
//
// The client owns everything that is about talking to Atlassian rather than about what the
// answers mean: bearer authentication, the three pagination styles, a per-key request budget,
// retries on 429 and 5xx, lenient decoding of pages whose fields are all optional in practice,
// and typed errors that callers can test with errors.Is. Interpreting events (normalizing,
// geolocation, detection) happens elsewhere.
//
// The API key is never written to an error or a log line, and it is only ever sent to the
// scheme and host of Config.BaseURL.
package atlassian
