# The process allocator. ticketd is allocation-heavy (a parsed message is a few hundred small
# strings and vectors, built and freed per message) and glibc's malloc spends about 14% of
# parse() in malloc/free. mimalloc (Debian's libmimalloc2.0) takes a corpus round of parse()
# from about 28.5 to 26.5 ms at the same peak memory (docs/benchmarks.md, "Allocator").
#
# Linking libmimalloc.so overrides malloc/free/new/delete for the whole process (libstdc++,
# SQLite, libcurl, OpenSSL included), the way its README documents for dynamic linking.
# `-DTICKETD_ALLOCATOR=system` builds against glibc's malloc. The sanitizer and fuzz builds
# always use the system allocator: ASan must own malloc to see overflows and leaks.
set(TICKETD_ALLOCATOR "mimalloc" CACHE STRING "malloc for the ticketd binary and benchmarks: mimalloc or system")
set_property(CACHE TICKETD_ALLOCATOR PROPERTY STRINGS mimalloc system)
if(TICKETD_SANITIZE OR TICKETD_FUZZ)
  set(TICKETD_ALLOCATOR_USED "system")
elseif(TICKETD_ALLOCATOR STREQUAL "mimalloc")
  find_package(mimalloc 2.0 REQUIRED)  # libmimalloc-dev
  set(TICKETD_ALLOCATOR_USED "mimalloc")
elseif(TICKETD_ALLOCATOR STREQUAL "system")
  set(TICKETD_ALLOCATOR_USED "system")
else()
  message(FATAL_ERROR "TICKETD_ALLOCATOR must be mimalloc or system, not '${TICKETD_ALLOCATOR}'")
endif()
message(STATUS "ticketd allocator: ${TICKETD_ALLOCATOR_USED}")

# Link the chosen allocator into an executable (never into a library: the choice is the
# program's). The allocator library goes first so its malloc is the one the loader binds.
function(ticketd_link_allocator target)
  if(TICKETD_ALLOCATOR_USED STREQUAL "mimalloc")
    target_link_libraries(${target} PRIVATE mimalloc)
  endif()
  target_compile_definitions(${target} PRIVATE TICKETD_ALLOCATOR_BUILT="${TICKETD_ALLOCATOR_USED}")
endfunction()
