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
        "src/js/test_bindings_input.cc",
        "src/x11/x11_display.cc",
        "src/input/injector_thread.cc",
        "src/input/keysym_unicode.cc",
        "src/input/x11_input_injector.cc",
        "src/input/xkb_keymap_search.cc",
        "src/capture/screen_source_factory.cc",
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
        "src/net/udp_socket.cc"
      ],
      "include_dirs": ["src", "<!(node -p \"require('node-addon-api').include_dir\")"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++14"],
      "cflags": ["<!@(pkg-config --cflags x11 xext xfixes xtst xkbcommon libavcodec libavutil libswscale libpulse opus vpx)"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
      "libraries": ["<!@(pkg-config --libs x11 xext xfixes xtst xkbcommon libavcodec libavutil libswscale libpulse opus vpx)"]
    }
  ]
}
