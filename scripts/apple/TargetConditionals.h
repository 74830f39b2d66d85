/* TargetConditionals.h for building wsmachine's C code (ring) for macOS and iOS on
 * Linux, without an Apple SDK (scripts/apple/sdk.py puts it into the stand-in SDK that
 * scripts/lib-apple.sh builds in target/apple-sdk/).
 *
 * Apple's header (shipped by the ziglang package beside the other libc headers) checks
 * `__is_target_environment(kernelkit)`, which clang 14 (Debian 12) evaluates as true
 * for every target, and stops with "KernelKit requires -fdefine_target_os_macros". This
 * one sets the same TARGET_* macros from the macros clang predefines for the
 * deployment target (-mmacosx-version-min / -miphoneos-version-min). Only what is
 * built here: macOS and iOS devices, arm64 and x86_64. */
#ifndef WSM_TARGETCONDITIONALS_H
#define WSM_TARGETCONDITIONALS_H

#define TARGET_OS_MAC 1
#if defined(__ENVIRONMENT_IPHONE_OS_VERSION_MIN_REQUIRED__)
#define TARGET_OS_OSX 0
#define TARGET_OS_IPHONE 1
#define TARGET_OS_IOS 1
#elif defined(__ENVIRONMENT_MAC_OS_X_VERSION_MIN_REQUIRED__)
#define TARGET_OS_OSX 1
#define TARGET_OS_IPHONE 0
#define TARGET_OS_IOS 0
#else
#error "wsmachine's TargetConditionals.h: only macOS and iOS targets are supported"
#endif
#define TARGET_OS_WATCH 0
#define TARGET_OS_TV 0
#define TARGET_OS_VISION 0
#define TARGET_OS_MACCATALYST 0
#define TARGET_OS_UIKITFORMAC 0
#define TARGET_OS_SIMULATOR 0
#define TARGET_IPHONE_SIMULATOR 0
#define TARGET_OS_EMBEDDED TARGET_OS_IPHONE
#define TARGET_OS_DRIVERKIT 0
#define TARGET_OS_UNIX 0
#define TARGET_OS_WIN32 0
#define TARGET_OS_WINDOWS 0
#define TARGET_OS_LINUX 0

#define TARGET_RT_LITTLE_ENDIAN 1
#define TARGET_RT_BIG_ENDIAN 0
#define TARGET_RT_64_BIT 1
#define TARGET_RT_MAC_MACHO 1
#define TARGET_RT_MAC_CFM 0

#if defined(__aarch64__)
#define TARGET_CPU_ARM64 1
#define TARGET_CPU_X86_64 0
#elif defined(__x86_64__)
#define TARGET_CPU_ARM64 0
#define TARGET_CPU_X86_64 1
#else
#error "wsmachine's TargetConditionals.h: only arm64 and x86_64 are supported"
#endif
#define TARGET_CPU_ARM 0
#define TARGET_CPU_X86 0
#define TARGET_CPU_PPC 0
#define TARGET_CPU_PPC64 0
#define TARGET_CPU_68K 0
#define TARGET_CPU_MIPS 0
#define TARGET_CPU_SPARC 0
#define TARGET_CPU_ALPHA 0

#endif /* WSM_TARGETCONDITIONALS_H */
