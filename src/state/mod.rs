//! The state every request shares, below the layers that use it: the store, the clock, the
//! configuration, the bounded caches and the password-hashing pool.

pub mod provisioner;
