// What ui's X11 parts share: Qt's own xcb connection, and xcb replies that free themselves.
#pragma once

#include <QGuiApplication>

#include <xcb/xcb.h>

#include <cstdlib>
#include <memory>

namespace hotdesk::ui::x11 {

struct FreeReply {
    void operator()(void *reply) const { std::free(reply); }
};

template <typename T> using ReplyPtr = std::unique_ptr<T, FreeReply>;

// The connection Qt's xcb platform uses; nullptr on any other platform, or when it broke.
inline xcb_connection_t *qtConnection()
{
    if (!qGuiApp)
        return nullptr;
    auto *x11 = qGuiApp->nativeInterface<QNativeInterface::QX11Application>();
    xcb_connection_t *connection = x11 ? x11->connection() : nullptr;
    return connection && !xcb_connection_has_error(connection) ? connection : nullptr;
}

} // namespace hotdesk::ui::x11
