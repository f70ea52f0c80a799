#include <malloc.h>

#include <csignal>

#include "cli/cli.h"

int main(int argc, char** argv) {
  // Buffers of 4 MiB and more (packs of 8 MiB on their way to and from the store) are
  // mapped and unmapped on their own. By default glibc raises this threshold after the
  // first such buffer is freed, after which packs allocated on worker threads stay in
  // those threads' heaps: a million-file verify peaked 70 MiB above what it held
  // (ARCHITECTURE decision 8; bench/many_files.sh).
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  // A write to a connection the vault has cut must fail with EPIPE (and be retried), not
  // end kura: libcurl is told not to touch signals (net/http_client.h).
  std::signal(SIGPIPE, SIG_IGN);
  return kura::cli::Main(argc, argv);
}
