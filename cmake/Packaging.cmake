# Debian packages for kura (the site agent) and kura-vault (the vendor's server), built with
# CPack: `cmake --build build --target package` (scripts/package.sh). Each binary is its own
# component and package. Man pages are generated from the commands' own --help (help2man)
# in English and Japanese. Packaging files: packaging/ (systemd units, maintainer scripts,
# /etc templates); docs/packages.md says what goes where.
include(GNUInstallDirs)

install(TARGETS kura RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT kura)
install(FILES packaging/systemd/kura-agent.service packaging/systemd/kura-agent-tick.service
              packaging/systemd/kura-agent-tick.timer
        DESTINATION /lib/systemd/system COMPONENT kura)
install(FILES packaging/etc/agent.toml.example DESTINATION /etc/kura COMPONENT kura)
install(FILES docs/agent.md docs/exit-codes.md docs/status-file.md docs/sources.md docs/format.md
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/kura COMPONENT kura)

install(TARGETS kura-vault RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT vault)
if(EXISTS ${PROJECT_SOURCE_DIR}/packaging/systemd/kura-vault.service)
  install(FILES packaging/systemd/kura-vault.service DESTINATION /lib/systemd/system COMPONENT vault)
endif()
file(GLOB vault_docs ${PROJECT_SOURCE_DIR}/docs/vault-*.md ${PROJECT_SOURCE_DIR}/docs/vault-*.yaml
     ${PROJECT_SOURCE_DIR}/docs/audit-trail.md ${PROJECT_SOURCE_DIR}/docs/retention.md)
install(FILES ${vault_docs} DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/kura-vault COMPONENT vault)

# Man pages from --help: kura.1.gz / kura-vault.1.gz, English in man1, Japanese in ja/man1.
find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(man_dir ${CMAKE_BINARY_DIR}/man)
  set(man_outputs)
  foreach(prog kura kura-vault)
    if(prog STREQUAL "kura")
      set(component kura)
      set(summary_en "tamper-resistant backups for medical and care providers")
    else()
      set(component vault)
      set(summary_en "kura's write-only offsite vault")
    endif()
    foreach(lang en ja)
      if(lang STREQUAL "en")
        set(out ${man_dir}/man1/${prog}.1.gz)
        set(dest ${CMAKE_INSTALL_MANDIR}/man1)
      else()
        set(out ${man_dir}/ja/man1/${prog}.1.gz)
        set(dest ${CMAKE_INSTALL_MANDIR}/ja/man1)
      endif()
      add_custom_command(
        OUTPUT ${out}
        COMMAND ${CMAKE_COMMAND} -E make_directory ${man_dir}/man1 ${man_dir}/ja/man1
        COMMAND ${CMAKE_COMMAND} -E env LC_ALL=C.UTF-8 KURA_LANG=${lang} ${HELP2MAN} --no-info --no-discard-stderr --locale=C.UTF-8
                --name=${summary_en} --output=${out}.tmp $<TARGET_FILE:${prog}>
        COMMAND sh -c "gzip -9n < '${out}.tmp' > '${out}' && rm -f '${out}.tmp'"
        DEPENDS ${prog}
        COMMENT "man page ${prog}.1 (${lang})"
        VERBATIM)
      list(APPEND man_outputs ${out})
      install(FILES ${out} DESTINATION ${dest} COMPONENT ${component} OPTIONAL)
    endforeach()
  endforeach()
  add_custom_target(man_pages DEPENDS ${man_outputs})
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_VENDOR "kura")
set(CPACK_PACKAGE_CONTACT "kura maintainers <maintainers@kura.invalid>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL kura vault)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)

set(CPACK_DEBIAN_KURA_PACKAGE_NAME kura)
set(CPACK_COMPONENT_KURA_DESCRIPTION
    "tamper-resistant backups for medical and care providers (site agent)\n kura dumps the site's database (PostgreSQL, MySQL/MariaDB, SQLite, SQL Server)\n or files every night, deduplicates, compresses and encrypts them, keeps local\n generations and sends them to a kura-vault.")
set(CPACK_DEBIAN_KURA_PACKAGE_RECOMMENDS "postgresql-client, mariadb-client")
set(CPACK_DEBIAN_KURA_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/deb/kura/postinst ${PROJECT_SOURCE_DIR}/packaging/deb/kura/postrm
    ${PROJECT_SOURCE_DIR}/packaging/deb/kura/conffiles)

set(CPACK_DEBIAN_VAULT_PACKAGE_NAME kura-vault)
set(CPACK_COMPONENT_VAULT_DESCRIPTION
    "kura's write-only offsite vault (server)\n Sites can only add backups; the vault keeps the generations, checks their\n integrity without the keys and raises an alarm when a backup did not arrive.")
set(CPACK_DEBIAN_VAULT_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_VAULT_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/deb/kura-vault/postinst ${PROJECT_SOURCE_DIR}/packaging/deb/kura-vault/prerm
    ${PROJECT_SOURCE_DIR}/packaging/deb/kura-vault/postrm)
# /etc/kura/agent.toml.example is a configuration file: dpkg keeps an edited copy.
set(CPACK_DEBIAN_KURA_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_VAULT_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
