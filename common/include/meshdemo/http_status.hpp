#pragma once

// Boost.Beast's HTTP status codes. Its header writes statuses to a std::ostream without
// including <ostream> (Boost 1.81), so every user goes through here.
#include <ostream>

#include <boost/beast/http/status.hpp>
