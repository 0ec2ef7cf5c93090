//! Prints the path of a vendored `protoc`: the reference crate compiles its
//! .proto at build time and machines without protoc would fail there.
fn main() {
    match protoc_bin_vendored::protoc_bin_path() {
        Ok(path) => println!("{}", path.display()),
        Err(err) => {
            eprintln!("protoc-path: no vendored protoc for this platform: {err}");
            std::process::exit(1);
        }
    }
}
