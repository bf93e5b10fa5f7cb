// Package bench holds the kit's benchmarks side by side with peer libraries.
// Peers are dependencies of this module only, never of the core.
package bench
