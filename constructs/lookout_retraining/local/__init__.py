"""Local stand-ins for AWS: a Lookout for Equipment emulator and a CloudFormation deployer."""
