// libcurl does the HTTP; kura does the trust: the SSL_CTX callback applies the TLS profile
// and replaces certificate verification by the pin (tls.h), so curl's CA store and host
// name check play no part.
#include "net/http_client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/ssl.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>

#include "util/fs.h"
#include "util/i18n.h"

namespace kura::net {
namespace {

std::once_flag curl_init_once;

struct Transfer {
  const ClientRequest* request = nullptr;
  ClientResponse* response = nullptr;
  CURL* curl = nullptr;
  int upload_fd = -1;
  int download_fd = -1;
  Status error;  // a failure inside a callback, reported instead of curl's code
};

size_t OnHeader(char* data, size_t size, size_t count, void* arg) {
  auto* t = static_cast<Transfer*>(arg);
  std::string_view line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    t->response->headers = Headers();  // a new status line (after "100 Continue")
    return size * count;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.remove_suffix(1);
    t->response->headers.Add(std::string(name), std::string(value));
  }
  return size * count;
}

size_t OnBody(char* data, size_t size, size_t count, void* arg) {
  auto* t = static_cast<Transfer*>(arg);
  const size_t n = size * count;
  long status = 0;  // NOLINT(google-runtime-int): curl's type
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (!t->request->response_file.empty() && status >= 200 && status < 300) {
    if (t->download_fd < 0) {
      t->download_fd =
          ::open(t->request->response_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (t->download_fd < 0) {
        t->error = ErrnoStatus(errno, L("書き込み", "write"), t->request->response_file);
        return 0;
      }
    }
    size_t done = 0;
    while (done < n) {
      ssize_t w = ::write(t->download_fd, data + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        t->error = ErrnoStatus(errno, L("書き込み", "write"), t->request->response_file);
        return 0;
      }
      done += static_cast<size_t>(w);
    }
    return n;
  }
  if (t->response->body.size() + n > t->request->max_response_bytes) {
    t->error = Status::NoSpace(Tr("サーバーの応答が上限 {} バイトを超えました",
                                  "the server's response exceeds {} bytes", t->request->max_response_bytes));
    return 0;
  }
  t->response->body.append(data, n);
  return n;
}

size_t OnUpload(char* buf, size_t size, size_t count, void* arg) {
  auto* t = static_cast<Transfer*>(arg);
  for (;;) {
    ssize_t n = ::read(t->upload_fd, buf, size * count);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    t->error = ErrnoStatus(errno, L("読み込み", "read"), t->request->body_file);
    return CURL_READFUNC_ABORT;
  }
}

CURLcode OnSslContext(CURL*, void* ssl_ctx, void* arg) {
  auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  if (!ApplyProfile(ctx).ok()) return CURLE_SSL_CIPHER;
  InstallPin(ctx, static_cast<PinCheck*>(arg));
  return CURLE_OK;
}

// A failure that may pass: the connection could not be made, was cut or timed out. A TLS
// handshake that failed because the socket was reset or closed (a vault restarting) is
// one too; a handshake the server refused by its protocol (versions, suites) is not.
bool IsRetryable(CURLcode code, long os_errno) {  // NOLINT(google-runtime-int): curl's type
  if (code == CURLE_SSL_CONNECT_ERROR || code == CURLE_SEND_FAIL_REWIND) {
    return os_errno == ECONNRESET || os_errno == ECONNREFUSED || os_errno == EPIPE || os_errno == ETIMEDOUT ||
           os_errno == ECONNABORTED;
  }
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

}  // namespace

struct HttpClient::Impl {
  ClientOptions options;
  CURL* curl = nullptr;
  PinCheck pin;
  char error_buffer[CURL_ERROR_SIZE] = {};

  ~Impl() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::Create(ClientOptions options) {
  if (options.base_url.rfind("https://", 0) != 0) {
    return Status::InvalidArgument(Tr("保管庫の URL \"{}\" は https:// で始めてください",
                                      "the vault URL \"{}\" must start with https://", options.base_url));
  }
  while (!options.base_url.empty() && options.base_url.back() == '/') options.base_url.pop_back();
  if (options.client_cert_file.empty() != options.client_key_file.empty()) {
    return Status::InvalidArgument(Tr("クライアント証明書と秘密鍵は両方を指定してください",
                                      "give both the client certificate and its private key"));
  }
  if (!options.client_key_file.empty()) KURA_RETURN_IF_ERROR(CheckKeyFileMode(options.client_key_file));
  std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  auto impl = std::make_unique<Impl>();
  impl->curl = curl_easy_init();
  if (impl->curl == nullptr) return Status::Internal("curl_easy_init failed");
  impl->pin.pin = options.pin;
  impl->options = std::move(options);
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

Result<ClientResponse> HttpClient::Send(const ClientRequest& request) {
  Impl& im = *impl_;
  CURL* c = im.curl;
  curl_easy_reset(c);  // keeps the connection cache
  ClientResponse response;
  Transfer t;
  t.request = &request;
  t.response = &response;
  t.curl = c;
  const std::string url = im.options.base_url + request.path;
  im.pin.checked = false;
  im.pin.matched = false;
  im.error_buffer[0] = '\0';

  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);  // send the path as given; the server judges it
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, im.error_buffer);
  curl_easy_setopt(c, CURLOPT_USERAGENT, im.options.user_agent.c_str());
  curl_easy_setopt(
      c, CURLOPT_SSLVERSION,
      static_cast<long>(CURL_SSLVERSION_TLSv1_2) | static_cast<long>(CURL_SSLVERSION_MAX_TLSv1_3));
  curl_easy_setopt(c, CURLOPT_SSL_CIPHER_LIST, kTls12Ciphers);
  curl_easy_setopt(c, CURLOPT_TLS13_CIPHERS, kTls13Ciphersuites);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);  // the pin names the server exactly
  curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, OnSslContext);
  curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, &im.pin);
  if (!im.options.client_cert_file.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, im.options.client_cert_file.c_str());
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(c, CURLOPT_SSLKEY, im.options.client_key_file.c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  }
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(im.options.connect_timeout.count()));
  const long idle_s = std::max<long>(1, static_cast<long>((im.options.idle_timeout.count() + 999) / 1000));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, idle_s);
  if (im.options.total_timeout.count() > 0) {
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(im.options.total_timeout.count()));
  }
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);

  curl_slist* headers = nullptr;
  bool has_type = false;
  for (const Header& h : request.headers) {
    has_type = has_type || ::strcasecmp(h.name.c_str(), "Content-Type") == 0;
    headers = curl_slist_append(headers, (h.name + ": " + h.value).c_str());
  }
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  if (!has_type) headers = curl_slist_append(headers, "Content-Type:");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

  if (!request.body_file.empty()) {
    t.upload_fd = ::open(request.body_file.c_str(), O_RDONLY | O_CLOEXEC);
    if (t.upload_fd < 0) {
      curl_slist_free_all(headers);
      return ErrnoStatus(errno, L("読み込み", "read"), request.body_file);
    }
    struct stat st {};
    ::fstat(t.upload_fd, &st);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, OnUpload);
    curl_easy_setopt(c, CURLOPT_READDATA, &t);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(st.st_size));
    if (request.method != "PUT") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
             request.method == "PATCH") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    if (request.method != "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (request.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  CURLcode code = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (t.upload_fd >= 0) ::close(t.upload_fd);
  if (t.download_fd >= 0) {
    if (::fsync(t.download_fd) != 0 && t.error.ok()) {
      t.error = ErrnoStatus(errno, L("書き込み", "write"), request.response_file);
    }
    ::close(t.download_fd);
  }
  if (!t.error.ok()) return t.error;
  if (code != CURLE_OK) {
    const std::string detail = im.error_buffer[0] != '\0' ? im.error_buffer : curl_easy_strerror(code);
    if (im.pin.checked && !im.pin.matched) return Status::Unauthorized(PinMismatchMessage(im.pin));
    long os_errno = 0;  // NOLINT(google-runtime-int): curl's type
    curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
    if (IsRetryable(code, os_errno)) {
      return Status::Retryable(Tr("保管庫 {} と通信できません: {}。回線を確認してください",
                                  "cannot reach the vault {}: {}; check the network", im.options.base_url,
                                  detail));
    }
    return Status::IOError(Tr("保管庫 {} との通信に失敗しました: {}", "talking to the vault {} failed: {}",
                              im.options.base_url, detail));
  }
  long status = 0;  // NOLINT(google-runtime-int): curl's type
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace kura::net
