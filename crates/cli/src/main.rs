//! The `confwatch` binary: parses flags and wires library crates together. No logic lives here.

fn main() {
    println!("confwatch");
}
