"""The ROS 2 adapter: the node, its messages, the synthetic camera, REP-155 output, and the
programs that run them (demo, node benchmark). The only part that imports rclpy."""
