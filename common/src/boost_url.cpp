// Boost.URL's sources, compiled into this library: Debian packages its shared library apart
// (libboost-url1.81.0), and an image then needs one file less.
#include <boost/url/src.hpp>
