{
  "targets": [
    {
      "target_name": "deskcast_native",
      "sources": [
        "src/js/addon.cc",
        "src/js/js_audio_session.cc",
        "src/js/js_event_sink.cc",
        "src/js/js_input_injector.cc",
        "src/js/js_options.cc",
        "src/js/js_video_session.cc",
        "src/js/test_bindings.cc",
        "src/js/test_bindings_capture.cc",
        "src/js/test_bindings_input.cc",
        "src/x11/x11_display.cc",
        "src/input/injector_thread.cc",
        "src/input/keysym_unicode.cc",
        "src/input/wayland_input_injector.cc",
        "src/input/x11_input_injector.cc",
        "src/input/xkb_keymap_search.cc",
        "src/capture/fallback_screen_source.cc",
        "src/capture/screen_source_factory.cc",
        "src/capture/wayland_screen_source.cc",
        "src/capture/x11_screen_source.cc",
        "src/video/color_convert.cc",
        "src/video/ffmpeg_util.cc",
        "src/video/h264_encoder.cc",
        "src/video/h264_encoder_backends.cc",
        "src/video/h264_nal.cc",
        "src/video/video_session.cc",
        "src/video/vp8_encoder.cc",
        "src/video/vp8_stream.cc",
        "src/audio/audio_session.cc",
        "src/audio/opus_encoder.cc",
        "src/audio/pulse_capture.cc",
        "src/rtp/opus_rtp_packetizer.cc",
        "src/rtp/rtcp.cc",
        "src/rtp/rtp_packetizer.cc",
        "src/rtp/vp8_rtp_packetizer.cc",
        "src/net/udp_socket.cc",
        "src/wayland/shm_pool.cc",
        "src/wayland/wayland_connection.cc"
      ],
      "actions": [
        {
          "action_name": "wayland_protocols",
          "inputs": ["protocols/generate.sh", "protocols/wlr-screencopy-unstable-v1.xml",
                     "protocols/wlr-virtual-pointer-unstable-v1.xml", "protocols/virtual-keyboard-unstable-v1.xml"],
          "outputs": [
            "<(SHARED_INTERMEDIATE_DIR)/wayland-protocols/wlr-screencopy-unstable-v1-protocol.c",
            "<(SHARED_INTERMEDIATE_DIR)/wayland-protocols/wlr-virtual-pointer-unstable-v1-protocol.c",
            "<(SHARED_INTERMEDIATE_DIR)/wayland-protocols/virtual-keyboard-unstable-v1-protocol.c",
            "<(SHARED_INTERMEDIATE_DIR)/wayland-protocols/ext-image-copy-capture-v1-protocol.c",
            "<(SHARED_INTERMEDIATE_DIR)/wayland-protocols/ext-image-capture-source-v1-protocol.c",
            "<(SHARED_INTERMEDIATE_DIR)/wayland-protocols/ext-foreign-toplevel-list-v1-protocol.c"
          ],
          "action": ["bash", "protocols/generate.sh", "<(SHARED_INTERMEDIATE_DIR)/wayland-protocols"],
          "process_outputs_as_sources": 1,
          "message": "wayland-scanner: generating the Wayland protocol client code"
        }
      ],
      "include_dirs": ["src", "<(SHARED_INTERMEDIATE_DIR)/wayland-protocols", "<!(node -p \"require('node-addon-api').include_dir\")"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++14"],
      "cflags": ["<!@(pkg-config --cflags x11 xext xfixes xdamage xi xtst xkbcommon wayland-client libavcodec libavutil libswscale libpulse opus vpx)"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
      "libraries": ["<!@(pkg-config --libs x11 xext xfixes xdamage xi xtst xkbcommon wayland-client libavcodec libavutil libswscale libpulse opus vpx)", "-lyuv"]
    }
  ]
}
