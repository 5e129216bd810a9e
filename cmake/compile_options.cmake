# Options every Resonance target gets through `resonance_options`.
add_library(resonance_options INTERFACE)
target_compile_options(resonance_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
  -Wconversion -Wno-sign-conversion -Wnull-dereference -Wimplicit-fallthrough -Wno-missing-field-initializers)
# include/ holds the contracts; the source root lets a component say "connectors/mqttsn/client.h".
target_include_directories(resonance_options INTERFACE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR})
target_compile_definitions(resonance_options INTERFACE
  RESONANCE_VERSION="${PROJECT_VERSION}" BOOST_ASIO_NO_DEPRECATED)

if(RESONANCE_SANITIZE)
  # Applied globally so that every object, including tests and gtest's main, is instrumented.
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

if(RESONANCE_FUZZ)
  # libFuzzer needs clang. libstdc++ 12 only offers std::expected when __cpp_concepts >= 202002;
  # clang 16 implements what that guards (P0848, conditionally trivial special members) but still
  # reports 201907, so we state it. Checked: clang++-16 with libstdc++ 12 on Debian 12.
  add_compile_options(-Wno-builtin-macro-redefined -U__cpp_concepts -D__cpp_concepts=202002L)
endif()
