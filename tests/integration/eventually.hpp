#pragma once

#include <chrono>
#include <functional>

namespace harness {

using namespace std::chrono_literals;

/** Polls until check() is true or timeout passes. */
bool eventually(const std::function<bool()>& check, std::chrono::milliseconds timeout = 10s);

} // namespace harness
