// The compiled part of Asio, Asio's SSL layer and Beast, built once here instead of inline in
// every file that includes them (BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION,
// set on wanllmdb_client for everything that links it). Header-only, each Beast-heavy file took
// a fifth longer to compile; the build is most of a clean `make test` on two cores.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
