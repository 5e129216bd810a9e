// Replays a fuzz corpus through LLVMFuzzerTestOneInput without libFuzzer, so every seed (and every
// crash input saved as a regression) runs in the ordinary sanitizer build under ctest.
// Usage: <target>_fuzz_replay DIR_OR_FILE...

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {
int replay_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  return 1;
}
}  // namespace

int main(int argc, char** argv) {
  int replayed = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::recursive_directory_iterator(arg))
        if (entry.is_regular_file()) replayed += replay_file(entry.path());
    } else if (std::filesystem::is_regular_file(arg)) {
      replayed += replay_file(arg);
    } else {
      std::fprintf(stderr, "fuzz replay: %s: no such file or directory\n", argv[i]);
      return 2;
    }
  }
  if (replayed == 0) {
    std::fprintf(stderr, "fuzz replay: no inputs found; a corpus must not be empty\n");
    return 2;
  }
  std::printf("fuzz replay: %d inputs, no crash\n", replayed);
  return 0;
}
