// Prebuilt addons only (binding.gyp adds this file when libbpf is linked in statically).
// gcc 12's <new> allocators call std::__throw_bad_array_new_length, which libstdc++ exports only
// from GLIBCXX_3.4.29 (gcc 11) on: with it the addon would not load where node 20's official
// binary runs (that node needs GLIBCXX_3.4.21 and GLIBC_2.28 at most). A hidden definition here
// binds those calls inside the addon; it throws what libstdc++'s own does.
#include <new>

namespace std {
__attribute__((visibility("hidden"), noreturn)) void __throw_bad_array_new_length() { throw std::bad_array_new_length(); }
}  // namespace std
