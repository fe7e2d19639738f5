package keys

import "sync"

// Memory returns an in-memory Keychain. It exists so that other packages can unit test code
// that needs a keychain without a Secret Service; production code uses System.
func Memory() Keychain {
	return &memoryKeychain{secrets: map[string]string{}}
}

type memoryKeychain struct {
	mu      sync.Mutex
	secrets map[string]string
}

func (m *memoryKeychain) Set(account, secret string) error {
	if account == "" {
		return errNoAccount
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	m.secrets[account] = secret
	return nil
}

func (m *memoryKeychain) Get(account string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()

	secret, ok := m.secrets[account]
	if !ok {
		return "", ErrNotFound
	}
	return secret, nil
}

func (m *memoryKeychain) Delete(account string) error {
	m.mu.Lock()
	defer m.mu.Unlock()

	if _, ok := m.secrets[account]; !ok {
		return ErrNotFound
	}
	delete(m.secrets, account)
	return nil
}
