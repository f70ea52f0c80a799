#include "cli/cli.h"

int main(int argc, char** argv) {
  return kura::cli::Main(argc, argv);
}
