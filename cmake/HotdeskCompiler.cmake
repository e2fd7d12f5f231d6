# Warning and sanitizer settings, carried by interface targets rather than global flags.
add_library(hotdesk_build_flags INTERFACE)
target_compile_options(hotdesk_build_flags INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
if(HOTDESK_WERROR)
    target_compile_options(hotdesk_build_flags INTERFACE -Werror)
endif()
target_compile_definitions(hotdesk_build_flags INTERFACE
    QT_NO_CAST_FROM_ASCII QT_NO_CAST_TO_ASCII QT_NO_KEYWORDS QT_NO_URL_CAST_FROM_STRING
    QT_USE_QSTRINGBUILDER OPENSSL_API_COMPAT=30000 OPENSSL_NO_DEPRECATED)
# Hardening for release builds.
target_compile_options(hotdesk_build_flags INTERFACE
    $<$<NOT:$<CONFIG:Debug>>:-D_FORTIFY_SOURCE=2> -fstack-protector-strong)
if(HOTDESK_WITH_ASAN)
    target_compile_options(hotdesk_build_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    target_link_options(hotdesk_build_flags INTERFACE -fsanitize=address,undefined)
endif()
