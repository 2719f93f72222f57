// Package supervise checks that a wing's inputs can be trusted: it classifies
// end-of-line supervised lines read through an ADC (normal, active, cut,
// shorted, tampered) and watches plain inputs for flapping or never moving.
package supervise
