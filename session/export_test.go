package session

// Hooks for the external tests.

// CookieValue is cookieValue, for FuzzCookieValue.
var CookieValue = cookieValue
