from slr_pose.cli.main import main

main()
