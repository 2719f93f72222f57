// Package appliance wires a wing appliance together: the configuration,
// the local store, the wing state fold, the inputs and the screens, with
// one lifecycle (New, Run, Close). Its Command is the wingnode binary.
//
// The path of an event: a sensor reading becomes an event draft here; the
// store makes it durable; the store's commit hook folds it into the wing
// state and hands it to every subscriber (the open screens); only then
// does anything wait on the append return.
package appliance
