#include "objstore/store_status.h"

#include <limits>

#include "util/i18n.h"

namespace kura {

Status ObjectNotFoundStatus(ObjectType type, const std::string& name, const std::string& where) {
  return Status::NotFound(
             Tr("{} オブジェクト {} が見つかりません ({})。リポジトリの場所が正しいか、"
                "別の処理で削除されていないかを確認してください",
                "{} object {} not found ({}). Check that the repository location is right and that "
                "nothing else deleted it",
                ObjectTypeName(type), name, where))
      .WithAdvice(Advice::kCheckRepository);
}

Status TruncatedObjectStatus(ObjectType type, const std::string& name, const std::string& where,
                             uint64_t size, uint64_t needed) {
  return Status::Corruption(
             Tr("{} オブジェクト {} が途中で切れています ({}: {} バイトしかありませんが、{} バイト目"
                "まで読む必要があります)。書き込み中に停止したか、ディスクが壊れている可能性が"
                "あります",
                "{} object {} is truncated ({}: it has {} bytes but {} are needed). It was "
                "probably cut short while being written, or the disk is damaged",
                ObjectTypeName(type), name, where, size, needed))
      .WithAdvice(Advice::kCheckRepository);
}

Status CheckRange(const std::string& where, uint64_t offset, uint64_t length) {
  if (length <= std::numeric_limits<uint64_t>::max() - offset) return Status::Ok();
  return Status::InvalidArgument(Tr("{} の読み込み範囲が不正です (位置 {}、長さ {})",
                                    "invalid range to read from {} (offset {}, length {})", where, offset,
                                    length));
}

}  // namespace kura
