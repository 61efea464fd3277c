# The process allocator. ticketd is allocation-heavy (a parsed message is a few hundred small
# strings and vectors, built and freed per message) and glibc's malloc spends about 14% of
# parse() in malloc/free. mimalloc (Debian's libmimalloc2.0) takes about 8% off a corpus round
# of parse() (the fastest round 26.2 -> 24.2 ms; peak memory on a 50 MB attachment 2.01x against
# 1.96x the message): docs/benchmarks.md, Parsing, "2026-12-06 late: the allocator".
#
# Linking libmimalloc.so overrides malloc/free/new/delete for the whole process (libstdc++,
# SQLite, libcurl, OpenSSL included), the way its README documents for dynamic linking.
# `-DTICKETD_ALLOCATOR=system` builds against glibc's malloc. The sanitizer and fuzz builds
# always use the system allocator: ASan must own malloc to see overflows and leaks.
set(TICKETD_ALLOCATOR "mimalloc" CACHE STRING "malloc for the ticketd binary and benchmarks: mimalloc or system")
set_property(CACHE TICKETD_ALLOCATOR PROPERTY STRINGS mimalloc system)
if(TICKETD_SANITIZE OR TICKETD_FUZZ OR CMAKE_CXX_FLAGS MATCHES "-fsanitize" OR CMAKE_EXE_LINKER_FLAGS MATCHES "-fsanitize")
  # ASan, TSan and the rest replace malloc themselves (docs/security.md's TSan recipe passes
  # -fsanitize=thread in the flags): a second allocator in the process would fight them.
  set(TICKETD_ALLOCATOR_USED "system")
elseif(TICKETD_ALLOCATOR STREQUAL "mimalloc")
  find_package(mimalloc 2.0 QUIET)  # libmimalloc-dev
  if(NOT mimalloc_FOUND)
    message(FATAL_ERROR "mimalloc not found: install libmimalloc-dev (scripts/install-deps.sh does), "
                        "or configure with -DTICKETD_ALLOCATOR=system for glibc's malloc")
  endif()
  set(TICKETD_ALLOCATOR_USED "mimalloc")
elseif(TICKETD_ALLOCATOR STREQUAL "system")
  set(TICKETD_ALLOCATOR_USED "system")
else()
  message(FATAL_ERROR "TICKETD_ALLOCATOR must be mimalloc or system, not '${TICKETD_ALLOCATOR}'")
endif()
message(STATUS "ticketd allocator: ${TICKETD_ALLOCATOR_USED}")

# Link the chosen allocator into an executable (never into a library: the choice is the
# program's). libmimalloc.so defines malloc, free, new and delete; the loader binds each symbol
# to the first library in the search order that defines it, and libc comes last (the compiler
# driver adds it after everything linked). metrics/allocator.cpp checks the outcome at run time.
function(ticketd_link_allocator target)
  if(TICKETD_ALLOCATOR_USED STREQUAL "mimalloc")
    target_link_libraries(${target} PRIVATE mimalloc)
  endif()
  target_compile_definitions(${target} PRIVATE TICKETD_ALLOCATOR_BUILT="${TICKETD_ALLOCATOR_USED}")
endfunction()
