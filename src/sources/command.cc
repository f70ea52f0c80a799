#include "sources/command.h"

#include "sources/db_common.h"
#include "sources/stream_guard.h"
#include "util/i18n.h"

namespace kura {

namespace {

class CommandSource : public Source {
 public:
  explicit CommandSource(CommandSourceOptions o) : o_(std::move(o)) {}
  std::string Kind() const override { return "command"; }
  // Only the program (or the start of the shell line), never arguments that may hold secrets.
  std::string Name() const override {
    if (!o_.shell.empty()) return "sh -c " + (o_.shell.size() > 60 ? o_.shell.substr(0, 60) + "…" : o_.shell);
    return o_.argv.empty() ? "" : o_.argv[0];
  }

  Status Backup(SnapshotWriter& out) override {
    if (o_.argv.empty() == o_.shell.empty()) {
      return Status::InvalidArgument(
          std::string(L("command ソースには command (引数リスト) か shell のどちらか一方を設定してください",
                        "set exactly one of command (an argv list) and shell for a command source")));
    }
    KURA_RETURN_IF_ERROR(ValidateStreamName(o_.stream, "stream"));
    ProcessOptions p;
    p.argv = o_.shell.empty() ? o_.argv : std::vector<std::string>{"sh", "-c", o_.shell};
    p.env = o_.env;
    p.cwd = o_.cwd;
    std::string name = Name();
    CountingWriter counted(out);
    KURA_RETURN_IF_ERROR(
        StreamProcessOutput(counted, p, StreamMeta(o_.stream), [&](int code, const std::string& tail) {
          return ToolFailure(L("コマンド", "command"), name, code, FailureCause{}, tail);
        }));
    if (counted.bytes() == 0 && !o_.allow_empty) {
      return EmptyStreamRefused(o_.stream, o_.empty_hint.empty() ? "allow_empty = true" : o_.empty_hint);
    }
    return Status::Ok();
  }

 private:
  CommandSourceOptions o_;
};

}  // namespace

std::unique_ptr<Source> NewCommandSource(CommandSourceOptions options) {
  return std::make_unique<CommandSource>(std::move(options));
}

}  // namespace kura
