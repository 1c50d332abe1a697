//! Nothing: this crate exists for its `Cargo.toml`, which gives every build of the workspace the
//! same features of the crates it lists (see there).
