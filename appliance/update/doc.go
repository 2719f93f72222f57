// Package update is a wing's firmware updates: site IT's endpoint on the
// screens' port (install a signed bundle into the inactive slot, reboot
// into it, start or stop a rollout across the site), the serving of a
// rollout's bundle to the other wings on the site port, and the agent that
// takes this wing's turn in the site's rollouts. The bundles, slots and
// trial boots themselves are package firmware's (firmware/DESIGN.md).
package update
