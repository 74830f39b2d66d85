// The check lines shared by the C++ wrapper tests (wrapper_test.cpp, tls_wrapper_test.cpp):
// one "ok - " / "not ok - " line per check, counted in `passed` / `failed`.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>

#include "wsmachine.hpp"

inline int passed, failed;

inline void check(bool cond, const std::string &what) {
    std::printf("%s - %s\n", cond ? "ok" : "not ok", what.c_str());
    (cond ? passed : failed)++;
}

// A result as its description and code, for messages.
inline std::string name(wsm::result r) {
    return std::string(wsm::describe(r)) + " (" + std::to_string(wsm::code(r)) + ")";
}

// Live handles of the library (the ws_handle_count test hook).
inline size_t handles() {
    size_t n = 0;
    ws_handle_count(&n);
    return n;
}
