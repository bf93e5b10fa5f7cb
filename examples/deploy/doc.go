// Package deploy holds the example portal's release script, release.sh: a
// Capistrano-shaped release on one machine (releases/<revision>/, an
// atomic current symlink, the previous release kept) gated by
// `launchready verify`, with an automatic rollback when verification fails
// (scorecard item 9, "a release verified after deploy with an automatic
// rollback path"). Its test deploys a good release, then a broken one, and
// checks the previous release is live again. See README.md for the same
// gate on Kubernetes and on a PaaS.
package deploy
