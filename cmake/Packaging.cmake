# `cmake --install` layout and the Debian package (`cpack -G DEB` in the build directory).
#
#   <prefix>/bin/ticketd                         the binary (daemon/CMakeLists.txt)
#   <prefix>/lib/systemd/system/ticketd.service  systemd/CMakeLists.txt, also sysusers.d, tmpfiles.d
#   <prefix>/share/man/man8/ticketd.8            the man page (man/ticketd.8)
#   <prefix>/share/doc/ticketd/                  README, docs/*.md, examples/ticketd.yaml, templates
#   /etc/ticketd/ticketd.yaml                    the example configuration, only when absent (never
#   /etc/ticketd/templates/                      overwrites an admin's file); conffiles in the .deb
include(GNUInstallDirs)

set(TICKETD_CONFDIR "/etc/ticketd" CACHE PATH "where the configuration goes (the daemon's default is /etc/ticketd/ticketd.yaml)")

install(FILES man/ticketd.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md")
install(FILES config/ticketd.example.yaml DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples RENAME ticketd.yaml)

# Mail templates (the outbox's acknowledgement, notifications): present once issue 5 lands.
file(GLOB TICKETD_TEMPLATES CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/config/templates/*")
if(TICKETD_TEMPLATES)
  install(FILES ${TICKETD_TEMPLATES} DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/templates)
endif()

# /etc: copied only when the file is not there yet, so `cmake --install` on a running server never
# replaces an edited configuration. (In the .deb, dpkg's conffile handling does the same job.)
install(CODE "
  set(etc \"\$ENV{DESTDIR}${TICKETD_CONFDIR}\")
  if(NOT EXISTS \"\${etc}/ticketd.yaml\")
    file(MAKE_DIRECTORY \"\${etc}\")
    file(COPY_FILE \"${PROJECT_SOURCE_DIR}/config/ticketd.example.yaml\" \"\${etc}/ticketd.yaml\")
    file(CHMOD \"\${etc}/ticketd.yaml\" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
    message(STATUS \"Installing: \${etc}/ticketd.yaml (example: edit it, then ticketd check)\")
  else()
    message(STATUS \"Keeping: \${etc}/ticketd.yaml (already there)\")
  endif()
  foreach(t ${TICKETD_TEMPLATES})
    get_filename_component(name \"\${t}\" NAME)
    if(NOT EXISTS \"\${etc}/templates/\${name}\")
      file(MAKE_DIRECTORY \"\${etc}/templates\")
      file(COPY_FILE \"\${t}\" \"\${etc}/templates/\${name}\")
    endif()
  endforeach()
")

# `cpack` runs the install step of the build tree; it must not first build every test and
# benchmark (the package holds the binary only). Build `ticketd` before `cmake --install` / cpack.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

# ---- CPack: one .deb -------------------------------------------------------------------------
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "ticketd")
set(CPACK_PACKAGE_VENDOR "ticketd")
set(CPACK_PACKAGE_CONTACT "ticketd maintainers <root@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "support mailbox to ticket desk daemon")
set(CPACK_PACKAGE_DESCRIPTION "ticketd polls IMAP mailboxes and files every message as a ticket or a reply threaded onto the right one, in SQLite. It runs under systemd (Type=notify, watchdog, hardened unit) and exports Prometheus metrics.")
set(CPACK_PACKAGE_HOMEPAGE_URL "file:///usr/share/doc/ticketd/operations.md")
# The package always lives under /usr; DESTDIR staging keeps the absolute /etc paths and lets the
# unit be generated with the package's prefix, not the build tree's.
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_INSTALL_PREFIX "/usr")  # with CPACK_SET_DESTDIR, the CMAKE_INSTALL_PREFIX of cpack's install
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES ON)  # the RelWithDebInfo binary is 78 MB with its debug info, ~10 without
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "mail")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends from dpkg-shlibdeps on the binary
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd, sqlite3")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus")
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)

set(TICKETD_SYSUSERS_FILE "/usr/${TICKETD_SYSUSERSDIR}/ticketd.conf")
set(TICKETD_TMPFILES_FILE "/usr/${TICKETD_TMPFILESDIR}/ticketd.conf")
set(deb_dir "${PROJECT_BINARY_DIR}/packaging/deb")
foreach(script postinst prerm postrm)
  configure_file(packaging/deb/${script}.in ${deb_dir}/${script} @ONLY
                 FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()
set(conffiles "${TICKETD_CONFDIR}/ticketd.yaml\n")
foreach(t ${TICKETD_TEMPLATES})
  get_filename_component(name "${t}" NAME)
  string(APPEND conffiles "${TICKETD_CONFDIR}/templates/${name}\n")
endforeach()
file(WRITE ${deb_dir}/conffiles "${conffiles}")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${deb_dir}/postinst;${deb_dir}/prerm;${deb_dir}/postrm;${deb_dir}/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
