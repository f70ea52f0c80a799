#include "vault_cli/vault_cli.h"

int main(int argc, char** argv) {
  return kura::vault_cli::Main(argc, argv);
}
