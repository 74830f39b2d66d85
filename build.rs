//! Build script: gives the Linux shared library its SONAME (and the macOS dylib an
//! @rpath install name).
//!
//! `libwsmachine.so.0`: its number changes together with `WS_ABI_VERSION` (an
//! incompatible ABI gets a new SONAME, so old programs never load it). A C or C++ program linked with `-lwsmachine` records `libwsmachine.so.0`, and
//! `scripts/build-release.sh` lays out the usual `libwsmachine.so.0.1.0` file with
//! the `libwsmachine.so.0` and `libwsmachine.so` symlinks in `dist/lib/<triple>/`.
//! Only Linux (glibc and musl): Android loads libraries by file name and warns about
//! a SONAME that differs from it, and Unity's plugin loader uses the file path.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libwsmachine.so.0");
    }
    // macOS: a relocatable install name instead of the build directory's absolute path,
    // so an app bundle finds the dylib through its rpath (Contents/Frameworks, ...).
    if os == "macos" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libwsmachine.dylib");
    }
}
