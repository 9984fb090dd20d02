{
  "targets": [
    {
      "target_name": "deskcast_native",
      "sources": [
        "src/addon.cc",
        "src/js_event_sink.cc",
        "src/js_options.cc",
        "src/test_bindings.cc",
        "src/capture_session.cc",
        "src/x11_display.cc",
        "src/x11_capture.cc",
        "src/color_convert.cc",
        "src/ffmpeg_util.cc",
        "src/h264_encoder.cc",
        "src/h264_nal.cc",
        "src/rtp_packetizer.cc",
        "src/rtcp.cc",
        "src/udp_socket.cc",
        "src/js_audio_session.cc",
        "src/audio_session.cc",
        "src/opus_rtp_packetizer.cc",
        "audio/pulse_capture.cc",
        "audio/opus_encoder.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++14"],
      "cflags": ["<!@(pkg-config --cflags x11 xext xfixes libavcodec libavutil libswscale libpulse opus)"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
      "libraries": ["<!@(pkg-config --libs x11 xext xfixes libavcodec libavutil libswscale libpulse opus)"]
    }
  ]
}
