"""What runs inside the sandbox: the driver (box), the frames (channel), the wire format (wire)."""
