package mfa

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeySize is the size of Config.Key: an AES-256 key.
const KeySize = 32

// ErrWeakKey is returned by New and KeyFromEnv for a key that is missing,
// of the wrong size, or visibly not random.
var ErrWeakKey = errors.New("mfa: the encryption key is missing or weak")

// KeyFromEnv reads Config.Key from the environment variable name: 32 bytes
// written as base64 (standard or URL alphabet, padded or not) or as 64 hex
// digits. Generate one with `openssl rand -base64 32`. It fails, naming
// the variable, when it is unset, does not decode to 32 bytes, or is
// visibly not random.
func KeyFromEnv(name string) ([]byte, error) {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return nil, fmt.Errorf("%w: %s is not set; set it to 32 random bytes in base64 (openssl rand -base64 32)", ErrWeakKey, name)
	}
	key, err := decodeKey(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %v; set it to 32 random bytes in base64 (openssl rand -base64 32)", ErrWeakKey, name, err)
	}
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("%w: %s %v; generate it with openssl rand -base64 32", ErrWeakKey, name, err)
	}
	return key, nil
}

func decodeKey(v string) ([]byte, error) {
	if len(v) == 2*KeySize {
		if b, err := hex.DecodeString(v); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("decodes to %d bytes, not %d", len(b), KeySize)
			}
			return b, nil
		}
	}
	return nil, errors.New("is neither base64 nor hex")
}

// checkKey refuses keys of the wrong size and keys that are visibly not
// random: 32 random bytes have about 30 distinct values; fewer than 16 is
// a pattern (zeros, a repeated word, ASCII text padded out).
func checkKey(key []byte) error {
	if len(key) != KeySize {
		return fmt.Errorf("is %d bytes, not %d", len(key), KeySize)
	}
	var seen [256]bool
	distinct := 0
	for _, b := range key {
		if !seen[b] {
			seen[b] = true
			distinct++
		}
	}
	if distinct < 16 {
		return fmt.Errorf("has only %d distinct byte values of %d, so it is not random", distinct, KeySize)
	}
	return nil
}

// keys are the keys derived from Config.Key: one seals TOTP secrets, the
// other keys the recovery-code hashes. Neither is the configured key.
type keys struct {
	seal     cipher.AEAD
	recovery []byte
}

func deriveKeys(key []byte) (keys, error) {
	sealKey, err := hkdf.Key(sha256.New, key, nil, "launchready/mfa: totp secret sealing", 32)
	if err != nil {
		return keys{}, err
	}
	recKey, err := hkdf.Key(sha256.New, key, nil, "launchready/mfa: recovery code hashing", 32)
	if err != nil {
		return keys{}, err
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return keys{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return keys{}, err
	}
	return keys{seal: aead, recovery: recKey}, nil
}

// sealSecret encrypts a TOTP secret for account: nonce || ciphertext. The
// account is the additional data, so a sealed secret copied to another
// account's record does not open.
func (k keys) sealSecret(account string, secret []byte) []byte {
	nonce := make([]byte, k.seal.NonceSize(), k.seal.NonceSize()+len(secret)+k.seal.Overhead())
	_, _ = rand.Read(nonce)
	return k.seal.Seal(nonce, nonce, secret, []byte(account))
}

// errSealed is returned when a sealed secret does not open: another key,
// another account, or tampering.
var errSealed = errors.New("mfa: the stored secret does not open with this key (wrong Config.Key, or the record was altered or moved between accounts)")

func (k keys) openSecret(account string, sealed []byte) ([]byte, error) {
	n := k.seal.NonceSize()
	if len(sealed) < n+k.seal.Overhead() {
		return nil, errSealed
	}
	out, err := k.seal.Open(nil, sealed[:n], sealed[n:], []byte(account))
	if err != nil {
		return nil, errSealed
	}
	return out, nil
}

// hashRecovery is the stored form of a normalised recovery code: an HMAC
// under the derived recovery key, bound to the account.
func (k keys) hashRecovery(account, code string) []byte {
	m := hmac.New(sha256.New, k.recovery)
	m.Write([]byte(account))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return m.Sum(nil)
}
