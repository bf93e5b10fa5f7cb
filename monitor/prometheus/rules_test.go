package prometheus_test

import "os"

func readRules() (string, error) {
	b, err := os.ReadFile("rules.yml")
	return string(b), err
}
