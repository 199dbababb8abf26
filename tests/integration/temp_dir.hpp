#pragma once

#include <cstdint>
#include <string>

namespace harness {

/** A loopback port nobody listens on right now. */
std::uint16_t free_port();
/** A new empty directory under /tmp, removed by the caller. */
std::string make_temp_dir(const std::string& prefix);

/** A new empty directory under /tmp, removed with everything in it however the test ends. */
class temp_dir {
public:
    explicit temp_dir(const std::string& prefix) : path_(make_temp_dir(prefix)) {}
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

} // namespace harness
