// Package bench holds the kit's benchmarks side by side with peer libraries.
// Peers are dependencies of this module only, never of the core.
//
// Conventions, which bench/run and cmd/benchreport rely on:
//
//   - the implementations of one comparison are sub-benchmarks impl=<name>
//     of one parent; ours is impl=launchready, the handler without any
//     middleware impl=bare, the kit less one part impl=without;
//   - each benchmark's doc comment states the target of its package issue,
//     and bench/targets.txt lists the same targets for the report;
//   - benchmarks whose names contain Heap fill a store with 1,000,000 keys
//     and are run once per round (-benchtime=1x).
//
// bench/run runs everything and writes BENCHMARKS.md at the repository root.
// Benchmarks never run in CI; their helpers compile under go vet and go test.
package bench
