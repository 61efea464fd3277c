# Every dependency is a Debian package; scripts/install-deps.sh installs the lot.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(OpenSSL REQUIRED)
# Howard Hinnant's date/tz (libhowardhinnant-date-dev): IANA zones for SLA calendars, since GCC 12 has
# no C++20 tz database. Debian builds it with USE_OS_TZDB=1 (date::date-tz carries the define): it
# reads the OS tzdata in /usr/share/zoneinfo and never downloads one.
find_package(date REQUIRED)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
pkg_check_modules(ICU_UC REQUIRED IMPORTED_TARGET icu-uc)  # Unicode case folding for rules
pkg_check_modules(GUMBO REQUIRED IMPORTED_TARGET gumbo)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)

# mimetic ships no pkg-config or CMake file.
find_path(MIMETIC_INCLUDE_DIR mimetic/mimetic.h REQUIRED)
find_library(MIMETIC_LIBRARY mimetic REQUIRED)
add_library(mimetic::mimetic UNKNOWN IMPORTED)
set_target_properties(mimetic::mimetic PROPERTIES
  IMPORTED_LOCATION "${MIMETIC_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${MIMETIC_INCLUDE_DIR}")

if(TICKETD_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
